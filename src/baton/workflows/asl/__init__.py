"""The Amazon States Language layer: paths, payload templates, intrinsic functions, Choice rules.

Pure functions over JSON values (dict/list/str/int/float/bool/None), reproducing AWS Step
Functions exactly, including its error names and cause texts:

* `paths`: `select`, `apply_input_path`, `apply_output_path`, `apply_result_path`,
  `is_valid_path`, `check_path` (plus `lookup` and `read`), on the Jayway JSONPath dialect
  implemented in `jsonpath`.
* `templates`: `render` and `check_template` for Parameters / ResultSelector / ItemSelector,
  and `evaluate_expression` for path-or-intrinsic fields (ErrorPath, CausePath).
* `intrinsics`: `is_intrinsic`, `evaluate`, `check` for `States.Format(...)` and friends.
* `choice`: `evaluate`, `choose`, `check_rule` for Choice rules; `parse_timestamp`.
* `errors`: `StatesError(error, cause)`, the predefined error names, `matches` for
  Retry/Catch `ErrorEquals`, `is_terminal` (States.Runtime: no Retry/Catch takes it) and
  `state_failure_cause`.

Causes are AWS's texts without the "An error occurred while executing the state '<name>'
(entered at the event id #<n>)." prefix; `errors.state_failure_cause` adds it.

The JSONPath evaluator is hand-written (`jsonpath`) rather than a dependency: Step Functions
runs Jayway JsonPath, and its observable behaviour (definite vs indefinite paths, `[0]`
unwrapping, verbatim quoted keys, its error messages, missing keys skipped after a wildcard)
is what the recorded cases check; jsonpath-ng differs on each of these.
"""

from . import choice, errors, intrinsics, jsonpath, paths, templates
from .errors import StatesError

__all__ = ["StatesError", "choice", "errors", "intrinsics", "jsonpath", "paths", "templates"]
