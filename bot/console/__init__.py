"""The maintainer console: a small read-only web app over the store and the knowledge base.

`kubebot serve console` runs it on 127.0.0.1 (a token is required anywhere else, and on every
address once it is set); `mount_console()` adds the same pages under a prefix to another aiohttp
application (the Slack HTTP server). Pages: Overview (charts of the store), Entries, Try a question
(the service's own decision and evidence), Suggestions (alternates from picks and declines).
Nothing here writes: `kubebot kb suggest --apply` on the command line changes the knowledge base.
"""
