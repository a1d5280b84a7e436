from . import test_usage
from . import test_plans
from . import test_plan_concurrency
from . import test_blocking
from . import test_rights
