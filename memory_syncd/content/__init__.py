"""The text of a day, cleaned and shortened: OpenClaw's noise rules, the day's turns and facts, the
rendered Markdown block, and secret redaction. Reads records handed to it; imports from read only.
"""
