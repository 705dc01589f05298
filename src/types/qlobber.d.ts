// Minimal typings for qlobber 8 (the topic matcher aedes uses); the package ships none.
declare module 'qlobber' {
  export interface QlobberOptions {
    separator?: string;
    wildcard_one?: string;
    wildcard_some?: string;
    match_empty_levels?: boolean;
    cache_adds?: boolean;
    max_words?: number;
    max_wildcard_somes?: number;
  }
  /** Values are kept in a Set per topic, so the same value added twice is stored once. */
  export class QlobberDedup<V = unknown> {
    constructor(options?: QlobberOptions);
    add(topic: string, val: V): this;
    remove(topic: string, val?: V): this;
    match(topic: string): Set<V>;
    test(topic: string, val: V): boolean;
    clear(): this;
  }
}
