#!/usr/bin/python3
"""scikit-learn beside Ark on the same feature matrix (bench/model/run.sh).

  /usr/bin/python3 bench/model/sklearn_compare.py FEATURES_DIR LOGISTIC_CARD GBT_CARD ORACLE_AUROC

FEATURES_DIR holds train.csv and validate.csv as `ark model train --dump-features` writes them
(the rows Ark fitted on at the training index and validated on at the later one: the same
temporal split). Fits sklearn's LogisticRegression (L2 on standardised features, C = 1/lambda of
Ark's model, intercept unpenalised: Ark's objective) and HistGradientBoostingClassifier (Ark's
gbt parameters where they map: trees, depth, learning rate, L2 on leaves; no early stopping),
and prints their validation AUROC, calibration slope and fit seconds beside Ark's learners and
the oracle's AUROC. Threads: OMP_NUM_THREADS (default 1, as Ark's gbt).
"""
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


def slope(y, p):
    """Calibration slope: the coefficient of logit(p) in a logistic fit of y (as Ark's card)."""
    import statsmodels.api as sm
    p = np.clip(p, 1e-12, 1 - 1e-12)
    lp = np.log(p / (1 - p))
    return sm.Logit(y, sm.add_constant(lp)).fit(disp=0).params[1]


def main():
    feats, lcard, gcard, oracle = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3])), float(sys.argv[4])
    train = pd.read_csv(os.path.join(feats, "train.csv"))
    valid = pd.read_csv(os.path.join(feats, "validate.csv"))
    outcome = train.columns[-1]
    xt, yt = train.drop(columns=[outcome]).to_numpy(float), train[outcome].to_numpy(int)
    xv, yv = valid.drop(columns=[outcome]).to_numpy(float), valid[outcome].to_numpy(int)
    rows = []
    for name, card in (("Ark logistic", lcard), ("Ark gbt", gcard)):
        v = card["performance"]["temporal_validation"]
        secs = gcard["comparison"]["gbt" if name == "Ark gbt" else "logistic"]["seconds_fit"]
        rows.append((name, v["auroc"]["estimate"], v["calibration"]["slope"], secs))
    lam = lcard.get("lambda", 1.0)
    t0 = time.perf_counter()
    scaler = StandardScaler().fit(xt)
    lr = LogisticRegression(C=1.0 / lam if lam > 0 else np.inf, max_iter=1000, tol=1e-8).fit(scaler.transform(xt), yt)
    t1 = time.perf_counter()
    p = lr.predict_proba(scaler.transform(xv))[:, 1]
    rows.append(("sklearn LogisticRegression", roc_auc_score(yv, p), slope(yv, p), t1 - t0))
    g = gcard["parameters"]
    t0 = time.perf_counter()
    hgb = HistGradientBoostingClassifier(max_iter=g["trees"], max_depth=g["max_depth"], learning_rate=g["eta"],
                                         l2_regularization=g["lambda"], early_stopping=False, random_state=g["seed"]).fit(xt, yt)
    t1 = time.perf_counter()
    p = hgb.predict_proba(xv)[:, 1]
    rows.append(("sklearn HistGradientBoosting", roc_auc_score(yv, p), slope(yv, p), t1 - t0))
    print(f"same feature matrix: {len(yt):,} training rows, {len(yv):,} validation rows, {xt.shape[1]} features; "
          f"sklearn threads {os.environ['OMP_NUM_THREADS']}")
    print(f"{'learner':30} AUROC   gap to oracle  slope   fit seconds")
    for name, auc, sl, secs in rows:
        print(f"{name:30} {auc:.4f}  {oracle - auc:+.4f}        {sl:.3f}   {secs:.3f}")
    print(f"{'oracle':30} {oracle:.4f}")


if __name__ == "__main__":
    main()
