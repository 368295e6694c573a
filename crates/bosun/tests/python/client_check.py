"""The official Kubernetes Python client against `bosun serve`: load the kubeconfig Bosun wrote,
list, create, and watch. Exits non-zero (with the reason) on the first thing that does not work.

Usage: python client_check.py KUBECONFIG
"""

import sys
import threading

from kubernetes import client, config, watch


def main(kubeconfig: str) -> None:
    config.load_kube_config(config_file=kubeconfig)
    core = client.CoreV1Api()

    names = {ns.metadata.name for ns in core.list_namespace().items}
    assert {"default", "kube-system", "kube-public"} <= names, f"default namespaces missing: {names}"

    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="from-python", labels={"app": "py"}), data={"a": "b"})
    created = core.create_namespaced_config_map("default", body)
    assert created.metadata.uid, "the server sets a uid"
    assert created.metadata.resource_version, "the server sets a resourceVersion"

    listed = core.list_namespaced_config_map("default", label_selector="app=py")
    assert [cm.metadata.name for cm in listed.items] == ["from-python"], listed.items

    # Watch from the list's resourceVersion: a later create arrives as ADDED.
    seen = []

    def create_later() -> None:
        later = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="later", labels={"app": "py"}))
        core.create_namespaced_config_map("default", later)

    timer = threading.Timer(0.5, create_later)
    timer.start()
    stream = watch.Watch()
    for event in stream.stream(
        core.list_namespaced_config_map,
        "default",
        label_selector="app=py",
        resource_version=listed.metadata.resource_version,
        timeout_seconds=20,
    ):
        seen.append((event["type"], event["object"].metadata.name))
        if event["object"].metadata.name == "later":
            stream.stop()
    timer.join()
    assert ("ADDED", "later") in seen, f"watch saw {seen}"

    try:
        core.read_namespaced_config_map("missing", "default")
        raise AssertionError("reading a missing object must fail")
    except client.exceptions.ApiException as error:
        assert error.status == 404, error

    print("python client: list, create, watch and errors work")


if __name__ == "__main__":
    main(sys.argv[1])
