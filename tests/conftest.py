from tests import testenv

testenv.apply()
