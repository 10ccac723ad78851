"""`python -m layerscope.gui [FILE...]`."""

import sys

from layerscope.gui.app import main

sys.exit(main(sys.argv[1:]))
