/*
 * One OpenSearch node in this JVM, with its modules taken from the classpath (the way OpenSearch's
 * own test framework starts nodes) instead of a distribution's modules/ folder.
 *
 * Usage: java -cp <classes>:<jars> LocalNode <config dir> key=value...
 * The settings (path.home, path.data, ports, discovery, ...) come from the arguments; the config
 * dir holds log4j2.properties. Started and stopped by scripts/opensearch-local.sh.
 *
 * What the official launcher does and this one does not: no bootstrap checks (they guard production
 * hosts: heap size, file descriptors, mmap count), no jar hell check (the classpath is Maven's, with
 * one version of each artifact), no security manager. Plain HTTP on loopback only.
 */

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

public final class LocalNode extends Node {

    /** The modules this node loads: HTTP and transport (netty4), and the common analyzers. */
    static final List<Class<? extends Plugin>> MODULES = List.of(Netty4Plugin.class, CommonAnalysisPlugin.class);

    LocalNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
        super(environment, plugins, true);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: LocalNode <config dir> key=value...");
            System.exit(2);
        }
        Path configDir = Paths.get(args[0]).toAbsolutePath();
        Settings.Builder given = Settings.builder();
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) {
                System.err.println("not a key=value setting: " + args[i]);
                System.exit(2);
            }
            given.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        LogConfigurator.registerErrorListener();
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            given.build(), Map.of(), configDir, () -> "local");
        LogConfigurator.setNodeName(Node.NODE_NAME_SETTING.get(environment.settings()));
        LogConfigurator.configure(environment);

        LocalNode node = new LocalNode(environment, MODULES);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "local-node-shutdown"));
        node.start();
        // The node's threads are daemons: this one keeps the JVM alive until SIGTERM.
        stopped.await();
    }
}
