// The crabbox web console: served by the Worker as static assets, built on the same API. Pages
// are chosen by the URL hash; a new page is a file in pages/ and one line in PAGES.
import { render } from "preact";
import { Admin } from "./pages/admin";
import { LeasePage } from "./pages/lease";
import { MyLeases } from "./pages/leases";
import { Providers } from "./pages/providers";
import { SignIn, resume } from "./pages/signin";
import { me, route, signOut, token } from "./state";

const PAGES: { match: RegExp; title: string; nav?: string; admin?: boolean; page: (m: RegExpExecArray) => preact.JSX.Element }[] = [
  { match: /^#\/leases$/, title: "My leases", nav: "#/leases", page: () => <MyLeases /> },
  { match: /^#\/lease\/([a-z0-9]{12,20})$/, title: "Lease", page: (m) => <LeasePage id={m[1]!} /> },
  { match: /^#\/providers$/, title: "Providers", nav: "#/providers", page: () => <Providers /> },
  { match: /^#\/admin$/, title: "Admin", nav: "#/admin", admin: true, page: () => <Admin /> },
];

function App() {
  if (!token.value || !me.value) return <SignIn />;
  const admin = me.value.role === "admin";
  const found = PAGES.map((p) => ({ p, m: p.match.exec(route.value) })).find((x) => x.m && (!x.p.admin || admin));
  return (
    <>
      <header>
        <span class="brand">crabbox</span>
        <nav>
          {PAGES.filter((p) => p.nav && (!p.admin || admin)).map((p) => (
            <a href={p.nav} class={route.value === p.nav ? "here" : ""}>{p.title}</a>
          ))}
        </nav>
        <span class="who" id="who">{me.value.owner} ({me.value.role})</span>
        <button onClick={() => signOut()}>Sign out</button>
      </header>
      {found ? found.p.page(found.m!) : <main><p class="error">No such page.</p></main>}
    </>
  );
}

if (token.value) void resume();
render(<App />, document.getElementById("app")!);
