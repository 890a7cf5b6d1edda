// A tiny IndexedDB key-value store: the training checkpoint survives a lost GPU device
// and a page reload (it never leaves the machine).
const DB = 'ser-webgpu';
const STORE = 'kv';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB is not available'));
  });
}

async function run<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = op(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result as T);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
    });
  } finally {
    db.close();
  }
}

export const store = {
  get: <T>(key: string): Promise<T | undefined> => run<T | undefined>('readonly', (s) => s.get(key)),
  put: (key: string, value: unknown): Promise<void> => run<void>('readwrite', (s) => s.put(value, key)).then(() => undefined),
  delete: (key: string): Promise<void> => run<void>('readwrite', (s) => s.delete(key)).then(() => undefined),
};
