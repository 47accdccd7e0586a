"""Where files that are personal data live: a party's signature scan, a briefing with case addresses."""

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateFiles(FileSystemStorage):
    """Files under DATA_DIR/private/<folder>, never below MEDIA_ROOT and without a URL — served only through the
    scoped views that check who may read them. The place is read from the settings when used, so a test can move
    DATA_DIR."""

    def __init__(self, folder: str):
        self.folder = folder
        super().__init__()

    @property
    def base_location(self):
        return str(Path(settings.DATA_DIR) / "private" / self.folder)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None
