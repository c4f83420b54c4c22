from . import queue_job
from . import relance_run
