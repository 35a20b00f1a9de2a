# Input functions, wildcard constraints and shared values for every stage.
import json

from qualtrace.corpus import discover

DOCUMENTS = discover(config["corpus"]["patterns"])
if not DOCUMENTS:
    raise WorkflowError(
        f"no input documents: nothing matches {config['corpus']['patterns']} "
        "(config corpus.patterns); put report chapters in data/raw/"
    )

# Every rule runs in the project's one environment (used with --use-conda).
ENVIRONMENT = "../../environment.yml"

# The ingest section as canonical JSON: a params change reruns ingestion, other edits do not.
INGEST_RULES = json.dumps(config["ingest"], sort_keys=True)


wildcard_constraints:
    doc=r"[A-Za-z0-9][A-Za-z0-9_-]*",


def raw_path(wildcards):
    return DOCUMENTS[wildcards.doc]


def parsed_documents(wildcards=None):
    return expand("data/interim/segments/{doc}.json", doc=sorted(DOCUMENTS))
