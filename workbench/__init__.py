"""ModelNet Workbench: networks of AI models, their pathways, and traced collaborative runs."""
__version__ = "0.1.0"
