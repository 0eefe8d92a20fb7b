"""Team sandbox: one Gradio app shared by every team Space.

Each team's Space runs this same code; the manifest gives each one its own TEAM_NAME and
MODEL_ID variables, so the app adapts without a copy per team.
"""

import os

import gradio as gr

TEAM = os.environ.get("TEAM_NAME", "team")
MODEL_ID = os.environ.get("MODEL_ID", "none")


def greet(name: str) -> str:
    return f"Hello {name}, welcome to {TEAM}'s Space (model: {MODEL_ID})."


demo = gr.Interface(fn=greet, inputs="text", outputs="text", title=f"IFCore {TEAM}")

if __name__ == "__main__":
    demo.launch()
