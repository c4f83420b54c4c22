from . import test_relance_sale
from . import test_relance_sale_i18n
