"""Runs the add-on's request builders and response parsers (``da3_blender.remote.protocol``,
imported from the built zip exactly as shipped) on cases given by the test, and prints what they
produced, so the test can validate it against the job protocol's schemas.

Run: /usr/bin/python3 contract_check.py <addon.zip> <cases.json> <work folder>
Prints one line ``DA3JS_RESULT <json>``.
"""

import json
import os
import sys

sys.path.insert(0, sys.argv[1])  # zipimport: the add-on's pure-Python modules need no Blender

from da3_blender.errors import Da3Error  # noqa: E402
from da3_blender.remote import contract, protocol  # noqa: E402


def error_of(fn):
    try:
        fn()
    except Da3Error as e:
        return {"code": e.code, "message": e.message}
    return None


def main():
    cases = json.load(open(sys.argv[2]))
    tmp = sys.argv[3]
    paths = []
    for i, data in enumerate((b"\x89PNG fake image bytes", b"\xff\xd8 another", b"\x00\x00\x00 ftyp video")):
        p = os.path.join(tmp, "in put %d.bin" % i)
        with open(p, "wb") as f:
            f.write(data)
        paths.append(p)
    images = [protocol.InputFile(paths[0], "a photo (1).png"), protocol.InputFile(paths[1], "b.jpg")]
    video = [protocol.InputFile(paths[2], "clip.mp4", "video")]
    out = {"contract": {"version": contract.PROTOCOL_VERSION, "states": list(contract.JOB_STATES), "stages": list(contract.JOB_STAGES)}}

    def read(p):
        with open(p, "rb") as f:
            return f.read()

    inline = [protocol.inline_input(it, read(it.path)) for it in images]
    out["requests"] = {
        "default": protocol.build_job_request(inline, protocol.ReconstructOptions()),
        "everything": protocol.build_job_request(
            [protocol.inline_input(video[0], read(video[0].path))],
            protocol.ReconstructOptions(process_res=280, process_res_method="lower_bound_crop", ref_view_strategy="first", use_ray_pose=True, infer_gs=True, video_fps=2.5, max_frames=10),
            {"client": "da3-blender", "scene": "x" * 2000},
        ),
        "edge": protocol.build_job_request([protocol.key_input(it, "in/k1/b/%d" % i) for i, it in enumerate(images)], protocol.ReconstructOptions(process_res=504)),
    }
    out["upload_request"] = protocol.build_upload_request(images, [len(read(p.path)) for p in images], ["image/png", "image/jpeg"])
    out["input_errors"] = {
        "none": error_of(lambda: protocol.check_inputs([])),
        "video_and_image": error_of(lambda: protocol.check_inputs(video + images)),
        "too_many": error_of(lambda: protocol.check_inputs(images * (contract.MAX_INPUTS // 2 + 1))),
        "bad_method": error_of(lambda: protocol.ReconstructOptions(process_res_method="nearest").to_json()),
        "bad_res": error_of(lambda: protocol.ReconstructOptions(process_res=contract.PROCESS_RES_MAX + 1).to_json()),
    }
    jobs = []
    for job in cases["jobs"]:
        try:
            s = protocol.parse_job(job)
            jobs.append({"id": s.id, "state": s.state, "stage": s.stage, "fraction": s.fraction, "terminal": s.terminal, "views": s.views, "size": [s.width, s.height], "isMetric": s.is_metric, "files": [[f.name, f.size, f.sha256] for f in s.files], "error": [s.error_code, s.error_message, s.retryable], "cancelRequested": s.cancel_requested, "text": s.progress_text()})
        except Da3Error as e:
            jobs.append({"failed": e.code, "message": e.message})
    out["jobs"] = jobs
    out["errors"] = []
    for status, body in cases["errorBodies"]:
        e = protocol.error_from_body(status, body.encode("utf-8"))
        out["errors"].append({"code": e.code, "message": e.message, "status": e.status, "report": e.report_text()})
    uploads = []
    for answer in cases["uploadAnswers"]:
        try:
            uploads.append([u.__dict__ for u in protocol.parse_upload_response(answer)])
        except Da3Error as e:
            uploads.append({"failed": e.code})
    out["uploads"] = uploads
    print("DA3JS_RESULT " + json.dumps(out), flush=True)


main()
