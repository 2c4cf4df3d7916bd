"""RQ entry points: thin functions that take ids (and the shop) and call a
domain's service. Domains enqueue them by dotted name through
`app.platform.tasks`; nothing below this package imports it."""
