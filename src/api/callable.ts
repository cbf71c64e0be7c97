/**
 * Node's module classes predate `class`: `net.Server()`, `net.Socket()`, `http.Agent()`,
 * `http.Server(handler)` work without `new`. A face's class, wrapped so a plain call
 * constructs, while `instanceof`, `extends` and static members stay the class's own.
 */
export function callable<C extends abstract new (...args: never[]) => unknown>(Class: C): C {
  return new Proxy(Class, {
    apply: (target, _this, args) => Reflect.construct(target, args),
  });
}
