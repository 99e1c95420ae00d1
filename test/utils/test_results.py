from crowd_perception.utils.results import markdown_table, update_results_section


def test_sections_are_replaced_in_place(tmp_path):
    path = tmp_path / "RESULTS.md"
    update_results_section("a", "A", "first", command="cmd a", machine="m", path=path)
    update_results_section("b", "B", "second", command="cmd b", machine="m", path=path)
    update_results_section("a", "A", "third", command="cmd a2", machine="m", path=path)
    text = path.read_text()
    assert "first" not in text and "third" in text and "second" in text
    assert text.index("third") < text.index("second")
    assert "Command: `cmd a2`" in text and "Machine: m" in text


def test_markdown_table():
    table = markdown_table(["x", "y"], [[1, 0.12345], ["a", 12345.6]])
    assert table.splitlines()[2] == "| 1 | 0.123 |"
    assert table.splitlines()[3] == "| a | 12346 |"


def _write_sections(path, prefix):
    for i in range(15):
        update_results_section(f"{prefix}{i}", prefix, str(i), command="c", machine="m", path=path)


def test_concurrent_writers_lose_no_section(tmp_path):
    import multiprocessing

    path = tmp_path / "RESULTS.md"
    workers = [multiprocessing.Process(target=_write_sections, args=(path, p)) for p in ("a", "b", "c")]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    text = path.read_text()
    assert all(f"<!-- END {p}{i} -->" in text for p in "abc" for i in range(15))
