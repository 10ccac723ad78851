"""The app on the desktop, without Qt: can a window open here, and the menu entry."""
