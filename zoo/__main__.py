"""``python -m zoo [PATTERN]``: print the registered models as a Markdown table (name, lecture, parameters, the
shipped trained weights with their test accuracy and size, what the model is)."""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m zoo", description=__doc__)
    parser.add_argument("pattern", nargs="?", default="*", help="shell-style wildcard, e.g. '*mlp*'")
    args = parser.parse_args(argv)

    from keras_lecture_zoo import zoo

    print("| model | lecture / source | parameters | trained weights (`weights=`) | what it is |")
    print("|---|---|---:|---|---|")
    for name in zoo.list_models(args.pattern):
        entry = zoo.get_entry(name)
        params = entry.builder().count_params()
        sets = "; ".join(w.describe() for w in zoo.list_weights() if w.model == name) or "—"
        print(f"| `{name}` | {entry.lecture} | {params:,} | {sets} | {entry.summary} |")


if __name__ == "__main__":
    main()
