"""The demo's tabs (one module each) and what they share (``ui.common``). Only ``ui`` and ``demo_app`` import gradio."""
