package io.gpuagent.gpu;

/** The fake passes the contract the NVML driver passes. */
class FakeGpuDriverTest extends GpuDriverContract {
    private FakeGpuDriver fake;

    @Override
    protected GpuDriver newDriver() {
        fake = new FakeGpuDriver(3);
        return fake;
    }

    @Override
    protected void lose(int index) {
        fake.lose(index);
    }
}
