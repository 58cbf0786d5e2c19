/**
 * The answers of one session, one after another in the order their messages arrived: a second
 * message waits for the first answer (whose turn it must see) instead of racing it. Sessions do not
 * wait for each other. In memory: one gateway process serves a store.
 */
export class SessionQueue {
  readonly #tails = new Map<string, Promise<void>>();

  run<T>(id: string, work: () => Promise<T>): Promise<T> {
    const turn = (this.#tails.get(id) ?? Promise.resolve()).then(work);
    const tail = turn.then(
      () => {},
      () => {},
    );
    this.#tails.set(id, tail);
    // The last in line cleans up, so an idle session holds nothing.
    void tail.then(() => {
      if (this.#tails.get(id) === tail) this.#tails.delete(id);
    });
    return turn;
  }
}
