"""Slack adapter (bolt-python AsyncApp). Nothing is imported here, so `import bot.adapters.slack`
does not load the Slack SDK; the composition root imports `runner` only for `kubebot serve slack`.

Entry points: `runner.run_slack(service, settings, http=..., port=...)` and
`app.build_app(service, settings, client=None)`; settings come from `config.SlackSettings.from_env`.
Pure parts: `render` / `home` (Reply → Block Kit), `mrkdwn` (escaping, splitting), `events`
(payload → Message), `actions` (button ids and values), `dedupe`.
"""
