"""kubebot: Kubernetes explained by analogy, in Slack, Discord and the terminal.

Keep this file free of imports: `kubebot ask` must not import Slack, Discord or cluster code.
"""

__version__ = "0.1.0"
