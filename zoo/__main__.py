"""``python -m zoo [PATTERN]``: print the registered models as a Markdown table (name, lecture, parameters)."""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m zoo", description=__doc__)
    parser.add_argument("pattern", nargs="?", default="*", help="shell-style wildcard, e.g. '*mlp*'")
    args = parser.parse_args(argv)

    import zoo

    print("| model | lecture / source | parameters | what it is |")
    print("|---|---|---:|---|")
    for name in zoo.list_models(args.pattern):
        entry = zoo.get_entry(name)
        params = entry.builder().count_params()
        print(f"| `{name}` | {entry.lecture} | {params:,} | {entry.summary} |")


if __name__ == "__main__":
    main()
