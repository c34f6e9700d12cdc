"""Pure validation shared by the webhook, the operator and the tests.

:mod:`.errors` holds the error type every check returns; :mod:`.schema` checks an
object against a CRD's structural schema the way the API server's strict field
validation does.
"""
