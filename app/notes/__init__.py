"""Meeting notes: a summary, decisions, action items and open questions from a language model."""
