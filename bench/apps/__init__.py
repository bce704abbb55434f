"""The apps the reference is measured against, served with the same gunicorn settings."""
