"""A Document defined elsewhere, imported by ``dbtest_models`` to test discovery."""

from beanie import Document


class Imported(Document):
    label: str = ""

    class Settings:
        name = "imported"
