"""What the desktop app's views show, computed without Qt.

The GUI's Qt models ask these objects which paths a tree shows, in which state and how big
they are, and keep the set of open archives here; being plain Python they sit under mypy
--strict and the import contracts with the rest of the core, and tests reach them without
a QApplication.
"""
