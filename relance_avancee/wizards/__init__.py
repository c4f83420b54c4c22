from . import relance_preview_wizard
from . import relance_preview_line
from . import relance_dispute_wizard
from . import relance_handover_wizard
from . import account_move_reversal
from . import relance_print_wizard
from . import relance_call_wizard
