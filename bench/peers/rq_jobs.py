"""The RQ peer's no-op job (imported by the rq workers through --path)."""


def noop(i):
    return None
