import { MetaProvider } from "@solidjs/meta";
import { Router } from "@solidjs/router";
import { FileRoutes } from "@solidjs/start/router";
import Shell from "./components/Shell.tsx";
import "./app.css";

export default function App() {
  return (
    <Router
      root={(props) => (
        <MetaProvider>
          <Shell>{props.children}</Shell>
        </MetaProvider>
      )}
    >
      <FileRoutes />
    </Router>
  );
}
