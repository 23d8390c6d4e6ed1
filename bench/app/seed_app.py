"""The autoscaling tutorial's sample service rebuilt for the benchmark: Flask answering ``/api``
with a JSON object of 52 random ASCII letters keyed "0".."51", served by uwsgi behind nginx."""

from __future__ import annotations

import random
import string

from flask import Flask, Response, jsonify

app = Flask(__name__)


@app.route("/api")
def api() -> Response:
    """A fresh letter per key, per request, as the tutorial's ``random.choice`` loop did."""
    return jsonify({str(index): random.choice(string.ascii_letters) for index in range(52)})
