"""Oracle for tests/server/graphite: carbon 1.1.7's and graphite-web 1.1.8's
own code, run on inputs read as JSON from stdin, answers printed as JSON.

  lines    -> carbon's MetricLineReceiver.lineReceived, then TaggedSeries
  names    -> carbon's TaggedSeries.parse(name).path
  globs    -> graphite-web's match_entries(entries, pattern)
  aggregates -> graphite-web's getAggFunc(name)(row), None for a gap
"""
import json
import sys


def lines(items):
    from carbon import events, protocols
    from carbon.util import TaggedSeries

    got = []

    class Receiver(protocols.MetricLineReceiver):
        def __init__(self):
            self.peerName = "oracle"

        def resetTimeout(self):
            pass

    events.metricReceived.handlers = []
    events.metricReceived.addHandler(lambda m, d: got.append((m, d)))
    receiver = Receiver()
    out = []
    for line in items:
        got.clear()
        try:
            receiver.lineReceived(line.encode("utf-8"))
        except Exception as error:
            out.append(["error", type(error).__name__])
            continue
        if not got:
            out.append(["none"])
            continue
        metric, (timestamp, value) = got[0]
        try:
            metric = TaggedSeries.parse(metric).path
        except Exception:
            pass
        out.append(["point", metric, repr(value), timestamp])
    return out


def names(items):
    from carbon.util import TaggedSeries

    out = []
    for name in items:
        try:
            out.append(TaggedSeries.parse(name).path)
        except Exception:
            out.append(name)
    return out


def globs(items):
    from graphite.finders import match_entries

    return [sorted(match_entries(entries, pattern)) for pattern, entries in items]


def aggregates(items):
    # graphite/functions/aggfuncs.py and safe.py, loaded by path: importing
    # the graphite.functions package needs Django settings and a log file.
    import importlib.util
    import types

    base = "/usr/lib/python3/dist-packages/graphite/functions/"

    def load(name, path):
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    errors = types.ModuleType("graphite.errors")
    errors.InputParameterError = ValueError
    sys.modules.setdefault("graphite", types.ModuleType("graphite"))
    sys.modules["graphite.errors"] = errors
    package = types.ModuleType("graphite.functions")
    sys.modules["graphite.functions"] = package
    package.safe = load("graphite.functions.safe", base + "safe.py")
    aggfuncs = load("graphite.functions.aggfuncs", base + "aggfuncs.py")

    out = []
    for name, row in items:
        # JSON has no -0: it comes as the string "-0.0".
        row = [float(v) if isinstance(v, str) else v for v in row]
        try:
            out.append(aggfuncs.getAggFunc(name)(row))
        except Exception as error:
            out.append("error: " + type(error).__name__)
    return out


if __name__ == "__main__":
    request = json.load(sys.stdin)
    print(json.dumps(globals()[request["kind"]](request["items"])))
