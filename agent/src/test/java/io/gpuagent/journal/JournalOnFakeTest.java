package io.gpuagent.journal;

/** The journal's contract on the in-memory fake the fault tests use. */
class JournalOnFakeTest extends JournalContract {
    private final FakeJournalFiles fake = new FakeJournalFiles();

    @Override
    protected JournalFiles files() {
        return fake;
    }
}
