"""The da3js GPU worker on Modal: the Docker image of apps/gpu-worker as a web server behind
Modal's proxy auth. Deploy from the repository root:

    modal secret create da3-worker DA3_TOKEN=$(openssl rand -base64 24) DA3_WEBHOOK_SECRET=whsec_...
    modal deploy apps/gpu-worker/deploy/modal_app.py

Clients: @da3js/client's modal({ url, tokenId, tokenSecret, token }) with a Proxy Auth Token.
"""
import os
import subprocess

import modal

image = modal.Image.from_dockerfile("apps/gpu-worker/Dockerfile", context_dir=".")
volume = modal.Volume.from_name("da3-data", create_if_missing=True)
app = modal.App("da3-worker", image=image)


@app.function(
    gpu="L4",
    volumes={"/data": volume},
    secrets=[modal.Secret.from_name("da3-worker")],
    timeout=3600,
    scaledown_window=300,
)
@modal.concurrent(max_inputs=64)
@modal.web_server(port=8008, startup_timeout=900, requires_proxy_auth=True)
def worker():
    # The worker reads its settings from the environment (the secret adds DA3_TOKEN, …).
    subprocess.Popen(["node", "/app/apps/gpu-worker/dist/main.js"], env={**os.environ, "HOST": "0.0.0.0", "PORT": "8008"})
