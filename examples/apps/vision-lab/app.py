"""Vision lab: image captioning on a GPU Space (t4-small), sleeping after an hour idle."""

import os

import gradio as gr
from transformers import pipeline

MODEL_ID = os.environ.get("MODEL_ID", "Salesforce/blip-image-captioning-base")
captioner = pipeline("image-to-text", model=MODEL_ID, device=0)


def caption(image):
    return captioner(image)[0]["generated_text"]


demo = gr.Interface(fn=caption, inputs=gr.Image(type="pil"), outputs="text", title="Vision lab")

if __name__ == "__main__":
    demo.launch()
