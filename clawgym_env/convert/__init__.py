"""``clawgym convert``: write a ClawGym suite in another framework's task format (``cli.FORMATS``)."""
