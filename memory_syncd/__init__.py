"""memory-syncd: keeps an OpenClaw agent's daily memory files in step with its session transcripts.

Data flows one way: sources -> tail -> parse -> redact -> index -> render -> memfile.
The scheduler, the control socket and the CLI sit around that pipeline.
"""

__version__ = "0.1.0"
