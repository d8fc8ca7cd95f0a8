"""The scheduler inside the server: keeps every project's computed dates equal to a fresh computation of its
stored inputs. See ``services`` for when and how a project is rescheduled, ``store`` for how computed values
are kept."""
