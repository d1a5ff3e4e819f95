"""Reference side of bench/preprocess: the same steps in Python OpenCV (Debian python3-opencv).

Prints one JSON object: per page the seconds of Ben's filter and of the denoising, and the
crops per second of cutting the given boxes (pad, crop, bicubic resize to S x S, grayscale).
Usage: /usr/bin/python3 opencv.py --threads T --boxes boxes.json --size S page...
"""
import argparse
import json
import time

import cv2
import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--boxes", required=True)
    ap.add_argument("--size", type=int, default=112)
    ap.add_argument("--out", default="")
    ap.add_argument("pages", nargs="+")
    a = ap.parse_args()
    cv2.setNumThreads(a.threads)
    boxes = json.load(open(a.boxes))
    result = {"opencv": cv2.__version__, "threads": a.threads, "pages": []}
    for path in a.pages:
        t0 = time.perf_counter()
        img = cv2.imread(path)
        t1 = time.perf_counter()
        ben = cv2.addWeighted(img, 4, cv2.GaussianBlur(img, (0, 0), 10), -4, 128)
        t2 = time.perf_counter()
        den = cv2.fastNlMeansDenoisingColored(ben, None, 20, 20, 7, 21)
        t3 = time.perf_counter()
        if a.out:
            cv2.imwrite(a.out, den)
        # crops: the page decoded once, then pad/crop/resize/grayscale each box; best of 3
        page = cv2.imread(path)
        h, w = page.shape[:2]
        best = float("inf")
        for _ in range(3):
            t4 = time.perf_counter()
            for x, y, bw, bh in boxes:
                pad = int(round(0.10 * (bw + bh) / 2))
                c = page[max(y - pad, 0):min(y + bh + pad, h), max(x - pad, 0):min(x + bw + pad, w)]
                r = cv2.resize(c, (a.size, a.size), interpolation=cv2.INTER_CUBIC)
                g = cv2.cvtColor(r, cv2.COLOR_BGR2GRAY)
            best = min(best, time.perf_counter() - t4)
        result["pages"].append({
            "page": path, "decodeS": t1 - t0, "benS": t2 - t1, "denoiseS": t3 - t2,
            "cropsPerSecond": len(boxes) / best,
        })
    print(json.dumps(result))


if __name__ == "__main__":
    main()
