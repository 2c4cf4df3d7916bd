from tests import testenv

testenv.apply()

from app import domains  # noqa: E402

domains.load()  # every table, handler and permission, as every entry point does
