from . import test_relance_queue_job
from . import test_relance_queue_job_concurrency
from . import test_relance_queue_job_i18n
