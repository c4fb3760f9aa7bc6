// The project roles as the page reads them (annotate/permissions.py is the rule; the API enforces it):
// viewer < annotator < manager < owner, each may do what the ones below it may. Pages hide what the
// caller's role cannot do, so nobody is offered a control that would only answer 403.

const RANK = { viewer: 0, annotator: 1, manager: 2, owner: 3 };

export function roleAtLeast(role, minimum) {
  return (RANK[role] ?? -1) >= RANK[minimum];
}
