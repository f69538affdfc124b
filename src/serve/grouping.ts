/**
 * Splitting a micro-batch into groups that run together: the indices of the batch's requests
 * by a key (a task, a task and its generation settings), groups in order of first appearance
 * and each group's indices in request order. Both the classify and the completions paths of
 * the router split their batches with it.
 */

/** Indices of `items` grouped by `key(item)`: groups in order of first appearance, indices ascending. */
export function groupIndices<T>(items: readonly T[], key: (item: T) => string): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  items.forEach((x, i) => {
    const k = key(x);
    const g = groups.get(k);
    if (g) g.push(i);
    else groups.set(k, [i]);
  });
  return groups;
}
