"""XGBoost reference for bench/gbdt: trains on the same table kzr trained on and reports
training time and validation AUC / logloss as one JSON line.

argv: <dir with train.f64, train.y, valid.f64, valid.y, meta.json> <params json>
"""
import json
import sys
import time

import numpy as np
import xgboost as xgb


def auc(y, p):
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    sp = p[order]
    i = 0
    while i < len(sp):
        j = i
        while j + 1 < len(sp) and sp[j + 1] == sp[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = y.sum()
    neg = len(y) - pos
    return (ranks[y > 0].sum() - pos * (pos + 1) / 2) / (pos * neg)


def main():
    folder, params = sys.argv[1], json.loads(sys.argv[2])
    meta = json.load(open(f"{folder}/meta.json"))
    f = meta["numFeatures"]
    xt = np.fromfile(f"{folder}/train.f64", dtype="<f8").reshape(-1, f)
    yt = np.fromfile(f"{folder}/train.y", dtype="<f8")
    xv = np.fromfile(f"{folder}/valid.f64", dtype="<f8").reshape(-1, f)
    yv = np.fromfile(f"{folder}/valid.y", dtype="<f8")
    rounds = params.pop("num_boost_round")
    t0 = time.perf_counter()
    c0 = time.process_time()
    dtrain = xgb.DMatrix(xt, label=yt, missing=np.nan)
    booster = xgb.train(params, dtrain, num_boost_round=rounds)
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - c0
    p = booster.predict(xgb.DMatrix(xv, missing=np.nan))
    pc = np.clip(p, 1e-15, 1 - 1e-15)
    logloss = float(-np.mean(yv * np.log(pc) + (1 - yv) * np.log(1 - pc)))
    print(json.dumps({"seconds": seconds, "cpuSeconds": cpu_seconds, "auc": float(auc(yv, p)), "logloss": logloss, "version": xgb.__version__}))


main()
