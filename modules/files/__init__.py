"""The files module: AFS (``kernel.storage``) over HTTP under ``/api/files``."""
