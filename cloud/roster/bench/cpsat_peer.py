"""The rostering benchmark's peer: OR-Tools CP-SAT on the very programme cloud-roster solves.

Reads the model cloud-roster serialised (variables with bounds and objective coefficients, rows
`sum <= le`), scales coefficients by 1000 to integers (CP-SAT is integer-only; every variable of
ours is integer), solves, and prints JSON: the solve's wall time measured by CP-SAT itself
(interpreter start-up and model building excluded), status, and the values of every variable so
the caller evaluates the objective on the unscaled model.

Usage: cpsat_peer.py MODEL.json TIME_LIMIT_S
"""

import json
import math
import sys

from ortools.sat.python import cp_model

SCALE = 1000


def main() -> None:
    path, limit = sys.argv[1], float(sys.argv[2])
    with open(path, encoding="utf-8") as f:
        lp = json.load(f)
    m = cp_model.CpModel()
    xs = []
    for i, v in enumerate(lp["vars"]):
        if not v["integer"]:
            sys.exit(f"variable {i} is continuous; CP-SAT needs integers")
        xs.append(m.NewIntVar(math.ceil(v["lb"]), math.floor(v["ub"]), f"x{i}"))
    for r in lp["rows"]:
        m.Add(
            sum(round(c * SCALE) * xs[i] for i, c in r["terms"])
            <= math.floor(r["le"] * SCALE + 1e-6)
        )
    m.Maximize(sum(round(v["obj"] * SCALE) * xs[i] for i, v in enumerate(lp["vars"])))
    s = cp_model.CpSolver()
    s.parameters.max_time_in_seconds = limit
    status = s.Solve(m)
    print(
        json.dumps(
            {
                "solve_s": s.WallTime(),
                "status": s.StatusName(status),
                "workers": s.parameters.num_workers,
                "values": [s.Value(x) for x in xs]
                if status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
                else [],
                "bound": s.BestObjectiveBound() / SCALE,
            }
        )
    )


if __name__ == "__main__":
    main()
