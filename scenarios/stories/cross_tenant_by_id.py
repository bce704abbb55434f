"""A tenant admin tries another tenant's objects by id: read, change, delete, re-role."""

from scenarios.steps import call, document, login, tenant, user

title = "Tenant admin reaching into another tenant by id"
threat = """Mallory is the admin of her own tenant. She guesses (or enumerates) ids from a rival
tenant and asks for them directly: read a document, overwrite it, delete it, and change a rival
user's role. Each must answer exactly like an id that does not exist, and change nothing."""
contract = {
    "3": "role changes never cross tenants",
    "5": "nobody reaches another tenant's resources; a foreign object answers like a missing one (404)",
}
checks = ("TEN-CROSS-TENANT-404", "ROLE-NO-CROSS-TENANT")
needs = ("tenants", "documents", "user_admin")
caught_by_faults = ("document-idor", "cross-tenant-403", "cross-tenant-role-change")

steps = [
    tenant("globex", admin="gina"),
    login("gina", as_="gina-laptop"),
    document("merger-plan", by="gina-laptop"),
    user("gus", role="viewer", by="gina-laptop"),
    tenant("acme", admin="mallory"),
    login("mallory", as_="mallory-laptop"),
    call("mallory-laptop", "document_get", ids={"id": "{doc:merger-plan}"}, expect="not found"),
    call("mallory-laptop", "document_update", ids={"id": "{doc:merger-plan}"},
         body={"title": "defaced", "body": "defaced"}, expect="not found"),
    call("mallory-laptop", "document_delete", ids={"id": "{doc:merger-plan}"}, expect="not found"),
    call("mallory-laptop", "user_role", ids={"id": "{user:gus}"}, body={"role": "editor"}, expect="not found"),
    call("gina-laptop", "document_get", ids={"id": "{doc:merger-plan}"}, expect="accepted"),
]
