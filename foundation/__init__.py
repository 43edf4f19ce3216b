"""The foundation every package may use; it imports nothing of the project.

Settings per subsystem (`settings`), positioned YAML (`yaml_source`), problems and their
rendering (`problems`), pydantic error mapping (`pydantic_errors`), durations, the error root
with transient/terminal markers (`errors`), the strict model base and the sha256 helper.
"""
